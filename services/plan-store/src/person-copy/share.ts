// Use cases: render the person's copy in their language, and record that it was given to them (SPEC §1: plans
// are not shared with the person today — now it is recorded, with when, and counted by statistics).
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import { InvalidRequest, StateConflict } from '@samsyn/fhir';
import { z } from 'zod';
import { eventOptions } from '../create-plan/create-plan.ts';
import { type CarePlanRow, outbox, planShares } from '../db/schema.ts';
import { type Parameters, parameterValue, readParameters } from '../plan/parameters.ts';
import {
  accessed,
  logAccess,
  nowOf,
  type PlanContext,
  type PlanDeps,
  toCarePlan,
  visiblePlan,
} from '../plan/store.ts';
import { renderSummary } from './summary.ts';
import { SUMMARY_LANGUAGES, type SummaryLanguage, summaryLanguage } from './translations.ts';

/** The language asked for, else the person's preferred language, else Swedish. */
export function chooseLanguage(
  asked: string | undefined,
  row: Pick<CarePlanRow, 'language'>,
): SummaryLanguage {
  if (asked !== undefined) {
    const lang = summaryLanguage(asked);
    if (!lang) {
      throw new InvalidRequest(
        'unsupported-language',
        `language=${asked}: the plan summary is available in ${SUMMARY_LANGUAGES.join(', ')}`,
      );
    }
    return lang;
  }
  return summaryLanguage(row.language ?? undefined) ?? 'sv';
}

export async function planSummary(
  deps: PlanDeps,
  id: string,
  askedLanguage: string | undefined,
  ctx: PlanContext,
): Promise<{ html: string; language: SummaryLanguage }> {
  const row = await visiblePlan(deps, id, ctx, 'read');
  const language = chooseLanguage(askedLanguage, row);
  await logAccess(deps.db, deps, ctx, 'read', accessed(row), { query: `$summary?language=${language}` });
  return { html: renderSummary({ plan: toCarePlan(row), language, now: nowOf(ctx) }), language };
}

const shareSchema = z.object({ language: z.string().min(2).max(16).optional() });

export interface ShareRecord {
  sharedAt: Date;
  versionId: number;
  language: SummaryLanguage;
}

export async function shareWithPerson(
  deps: PlanDeps,
  id: string,
  body: Parameters | undefined,
  ctx: PlanContext,
): Promise<ShareRecord> {
  const row = await visiblePlan(deps, id, ctx, 'read');
  const params = readParameters(body, shareSchema, { language: (p) => parameterValue(p, 'code') });
  if (row.status === 'draft') {
    throw new StateConflict(
      'plan-draft',
      `CarePlan/${id} is a draft; the person gets their copy once the plan is agreed (active)`,
    );
  }
  const language = chooseLanguage(params.language, row);
  const now = nowOf(ctx);
  await deps.db.transaction(async (tx) => {
    await tx.insert(planShares).values({
      id: randomUUID(),
      planId: id,
      versionId: row.versionId,
      language,
      byOrg: ctx.auth.org,
      sharedAt: now,
    });
    await logAccess(tx, deps, ctx, 'read', accessed(row), {
      query: `$share-with-person?language=${language}`,
    });
    await enqueue(
      tx,
      outbox,
      events.planSharedWithPerson,
      {
        planId: id,
        caseId: row.caseId,
        at: now.toISOString(),
        version: row.versionId,
        language,
        byOrg: ctx.auth.org,
      },
      eventOptions(row, ctx),
    );
  });
  return { sharedAt: now, versionId: row.versionId, language };
}
