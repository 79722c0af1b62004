import { Layout } from './components/layout';
import { SignIn } from './components/sign-in';
import type { ConsoleConfig } from './lib/config';
import { type Route, useRoute } from './lib/router';
import type { Session } from './lib/session';
import { useSession } from './lib/use-session';
import { AuditPage } from './pages/audit';
import { HealthPage } from './pages/health';
import { PaymentPage } from './pages/payment';
import { PaymentsPage } from './pages/payments';
import { WebhooksPage } from './pages/webhooks';

function View({ route, config }: { route: Route; config: ConsoleConfig; session: Session }) {
  const [section, id] = route.segments;
  switch (section) {
    case 'payments':
      return id ? <PaymentPage id={id} tenant={route.query.tenant} /> : <PaymentsPage route={route} config={config} />;
    case 'webhooks':
      return <WebhooksPage route={route} />;
    case 'health':
      return <HealthPage />;
    case 'audit':
      return <AuditPage route={route} />;
    default:
      return <PaymentsPage route={route} config={config} />;
  }
}

export function App({ config }: { config: ConsoleConfig }) {
  const session = useSession();
  const route = useRoute();
  if (!session) return <SignIn config={config} />;
  return (
    <Layout route={route} session={session}>
      <View route={route} config={config} session={session} />
    </Layout>
  );
}
