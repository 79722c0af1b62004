import { Type, type Static } from '@sinclair/typebox';
import { SimulatorSettings } from '../../processors/simulator/model.ts';

/** The data part of `defaultRegistry` options (the simulator's knobs and secret). */
export const DefaultRegistrySettings = Type.Composite([
  SimulatorSettings,
  Type.Object({
    /**
     * HMAC key of the simulator's callbacks (>= 16 chars). Default: random per process,
     * which is fine for one process; replicas that receive each other's callbacks need
     * a shared value.
     */
    callbackSecret: Type.Optional(Type.String({ minLength: 16 })),
  }),
]);
export type DefaultRegistrySettings = Static<typeof DefaultRegistrySettings>;
