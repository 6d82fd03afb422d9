// Participants' rating after closure (1–5) as a FHIR QuestionnaireResponse: stored, then published as
// sip.statistics.rating-recorded so the projection (and any rebuild) counts it from the event like everything else.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db } from '@samsyn/db';
import {
  InvalidRequest,
  NotFound,
  parseWith,
  type QuestionnaireResponse,
  readResource,
  StateConflict,
  sendResource,
} from '@samsyn/fhir';
import { type AppEnv, requireScope } from '@samsyn/platform';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { outbox, rating } from '../db/schema.ts';
import type { CaseState } from '../projection/case-state.ts';
import { liveGeneration } from '../projection/store.ts';

export const RATING_QUESTIONNAIRE = 'https://samsyn.se/fhir/Questionnaire/sip-rating';
const RESPONDENTS = ['person', 'relative', 'organisation'] as const;

const responseSchema = z.object({
  resourceType: z.literal('QuestionnaireResponse'),
  status: z.literal('completed', 'must be completed'),
  questionnaire: z.literal(RATING_QUESTIONNAIRE, `must be ${RATING_QUESTIONNAIRE}`),
  subject: z.object({
    reference: z.string().regex(/^Task\/[0-9a-f-]{36}$/, 'must reference the initiative as Task/<id>'),
  }),
  item: z
    .array(
      z.object({
        linkId: z.string(),
        answer: z
          .array(
            z.object({
              valueInteger: z.number().int().optional(),
              valueCoding: z.object({ code: z.string() }).optional(),
            }),
          )
          .optional(),
      }),
    )
    .min(1),
});

export function ratingRoutes(db: Db, kick: () => void): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/QuestionnaireResponse', async (c) => {
    const auth = c.var.auth;
    requireScope(auth, 'QuestionnaireResponse', 'c');
    const body = parseWith(
      'QuestionnaireResponse',
      responseSchema,
      await readResource(c, 'QuestionnaireResponse'),
    );
    const value = body.item.find((i) => i.linkId === 'rating')?.answer?.[0]?.valueInteger;
    const respondent =
      body.item.find((i) => i.linkId === 'respondent')?.answer?.[0]?.valueCoding?.code ?? 'person';
    const parsed = z
      .object({ rating: z.number().int().min(1).max(5), respondent: z.enum(RESPONDENTS) })
      .safeParse({ rating: value, respondent });
    if (!parsed.success)
      throw new InvalidRequest(
        'invalid-rating',
        'QuestionnaireResponse.item: answer item "rating" with a valueInteger 1–5, and optionally "respondent" coded person, relative or organisation',
      );
    const caseId = body.subject.reference.slice('Task/'.length);
    const gen = await liveGeneration(db);
    const rows = (await db.execute(
      sql`select state from statistics.case_state where gen = ${gen} and case_id = ${caseId}`,
    )) as unknown as { state: string }[];
    const stored = rows[0]?.state;
    const state: CaseState | undefined = stored === undefined ? undefined : JSON.parse(stored);
    const partOf =
      state?.dims?.requesterOrg === auth.org ||
      Object.values(state?.invitations ?? {}).some((i) => i.org === auth.org);
    // A case the caller is not part of answers like a missing one (SPEC §7).
    if (!state || !partOf) throw new NotFound('Task', caseId);
    if (!state.closedAt)
      throw new StateConflict(
        'case-not-closed',
        'The rating is asked for after closure; this case is not closed',
      );
    const id = randomUUID();
    const now = new Date();
    await db.transaction(async (tx) => {
      await tx.insert(rating).values({
        id,
        caseId,
        org: auth.org,
        rating: parsed.data.rating,
        respondent: parsed.data.respondent,
        recordedAt: now,
      });
      await enqueue(
        tx,
        outbox,
        events.ratingRecorded,
        {
          ratingId: id,
          caseId,
          rating: parsed.data.rating,
          respondent: parsed.data.respondent,
          org: auth.org,
          at: now.toISOString(),
        },
        { aggregate: caseId, source: '/samsyn/statistics', time: now },
      );
    });
    kick();
    // Answers are write-only (never read back, not even by the sender), so there is no Location to read.
    return sendResource(
      c,
      toFhir({ id, caseId, rating: parsed.data.rating, respondent: parsed.data.respondent, recordedAt: now }),
      { status: 201 },
    );
  });
  return app;
}

function toFhir(r: {
  id: string;
  caseId: string;
  rating: number;
  respondent: string;
  recordedAt: Date;
}): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: r.id,
    meta: { versionId: '1', lastUpdated: r.recordedAt.toISOString() },
    questionnaire: RATING_QUESTIONNAIRE,
    status: 'completed',
    subject: { reference: `Task/${r.caseId}` },
    authored: r.recordedAt.toISOString(),
    item: [
      { linkId: 'rating', answer: [{ valueInteger: r.rating }] },
      {
        linkId: 'respondent',
        answer: [
          { valueCoding: { system: 'https://samsyn.se/fhir/CodeSystem/sip-respondent', code: r.respondent } },
        ],
      },
    ],
  };
}
