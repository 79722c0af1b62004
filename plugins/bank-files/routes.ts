import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import type { Database } from '../../db';
import { publicFile, StatusFileError } from '../../processors/bank-files/index.ts';
import type { Config } from '../../runtime/config';
import { invalidRequest, resourceMissing, unexpectedState } from '../../runtime/errors';
import { requestState } from '../../runtime/http';
import type { Logger } from '../../runtime/logger';
import { authGuard } from '../auth';
import { errorResponses } from '../tenancy/model';
import { apiFile, BankFile, BankStatusFile, FileParams, FilesQuery, listOfFiles, StatusFileUpload, Trace, TraceParams } from './model';
import type { BankFilesService } from './service';

export type BankFilesRoutesDeps = { config: Config; database: Database; logger: Logger; service: BankFilesService };

const TAGS = ['Bank files'];

/**
 * Platform routes for the people who run the bank channel (platform:admin; reads also
 * platform:support): upload a status file by hand, list the files sent, send one again,
 * and trace a payment or refund to its file. No tenant data beyond processor references.
 */
export function bankFilesRoutes(deps: BankFilesRoutesDeps) {
  const { service } = deps;
  const { operator } = service;
  return new Elysia({ name: 'nimbus:bank-files' })
    .use(authGuard(deps))
    .post(
      '/v1/bank_files/status_files',
      async ({ body, request, set }) => {
        let result;
        try {
          result = await service.upload(body.filename ?? 'upload', body.content);
        } catch (error) {
          if (error instanceof StatusFileError) throw invalidRequest('status_file_invalid', error.message);
          throw error;
        }
        requestState(request).audit = { action: 'bank_status_file.upload', resourceId: result.id };
        set.status = result.duplicate ? 200 : 201;
        return {
          id: result.id,
          object: 'bank_status_file' as const,
          name: result.name,
          format: result.format,
          via: result.via,
          items: result.items,
          applied: result.applied,
          unmatched: result.unmatched,
          duplicate: result.duplicate,
          received_at: result.receivedAt,
        };
      },
      {
        scopes: ['platform:admin'],
        body: StatusFileUpload,
        response: { 200: BankStatusFile, 201: BankStatusFile, ...errorResponses(400, 401, 403, 409, 413, 422) },
        detail: {
          tags: TAGS,
          summary: 'Upload a bank status file',
          operationId: 'uploadBankStatusFile',
          description:
            'For support: the text of a camt.054 notification or a NACHA return file in `content` (JSON, so at most 64 KiB with its escaping; ' +
            'larger files go through the inbox directory). Applied like a file from the inbox: bookings settle payments and refunds, returns fail them ' +
            'or (after settlement) become refunds. 201 when read now, 200 when the same file was read before (nothing changes). ' +
            '400 `status_file_invalid` for anything that is not a status file.',
        },
      },
    )
    .get(
      '/v1/bank_files/files',
      async ({ query }) => {
        const limit = query.limit ? Number(query.limit) : 20;
        const files = await operator.files(limit + 1);
        return { object: 'list' as const, data: files.slice(0, limit).map((file) => apiFile(publicFile(file))), has_more: files.length > limit };
      },
      {
        scopes: ['platform:admin', 'platform:support'],
        query: FilesQuery,
        response: { 200: listOfFiles, ...errorResponses(400, 401, 403) },
        detail: { tags: TAGS, summary: 'List bank files sent, newest first', operationId: 'listBankFiles' },
      },
    )
    .post(
      '/v1/bank_files/files/:id/resend',
      async ({ params, request }) => {
        const file = await operator.file(params.id);
        if (!file) throw resourceMissing('bank_file', params.id);
        if (file.content === undefined) throw unexpectedState('bank_file_closed', 'Every entry of this file has its answer from the bank; its bytes are no longer kept.');
        requestState(request).audit = { action: 'bank_file.resend', resourceId: params.id };
        return apiFile(publicFile((await operator.resend(params.id))!));
      },
      {
        scopes: ['platform:admin'],
        params: FileParams,
        response: { 200: BankFile, ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
        detail: {
          tags: TAGS,
          summary: 'Deliver a bank file again',
          operationId: 'resendBankFile',
          description: 'Hands the stored bytes of the file to the transport again, unchanged (same message id, same SHA-256): for a bank channel that lost it.',
        },
      },
    )
    .get(
      '/v1/bank_files/traces/:reference',
      async ({ params }) => {
        const trace = await operator.trace(params.reference);
        if (!trace) throw resourceMissing('bank_file_entry', params.reference);
        return {
          object: 'bank_file_trace' as const,
          reference: trace.reference,
          kind: trace.kind,
          status: trace.status,
          file: trace.file ? { id: trace.file.id, name: trace.file.name, format: trace.file.format, sha256: trace.file.sha256, status: trace.file.status, created_at: trace.file.createdAt } : null,
          batch: trace.batch ?? null,
          entry_id: trace.entryId ?? null,
          date: trace.date ?? null,
          failure: trace.failure ?? null,
        };
      },
      {
        scopes: ['platform:admin', 'platform:support'],
        params: TraceParams,
        response: { 200: Trace, ...errorResponses(400, 401, 403, 404) },
        detail: {
          tags: TAGS,
          summary: 'Trace a payment or refund to its bank file',
          operationId: 'traceBankFileEntry',
          description: "By the payment's or refund's `processor_reference`: its batch (PmtInfId or NACHA batch), file (message id, SHA-256) and end-to-end id or trace number.",
        },
      },
    );
}
