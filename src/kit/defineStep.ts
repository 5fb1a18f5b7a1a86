/**
 * `defineStep`: a workflow step's handler (a step, a compensation or a wait's
 * onTimeout call, docs/workflows.md) as a name, a schema for the workflow's
 * input (the start event's payload) and `handle(step, tools)`. It is a plain
 * handler (./defineHandler.ts) that accepts STEP_EVENT_TYPE and parses the
 * step payload, so it is served, signed, retried and logged like any other.
 *
 * `step.id` (= tools.idempotencyKey) is the same on every run of this step:
 * pass it on as the idempotency key of whatever the step changes outside.
 * What `handle` returns (JSON) is the step's result, kept under its name in
 * the instance's `results` for the steps after it.
 */
import { z } from 'zod';
import { STEP_EVENT_TYPE, type StepPayload } from './contract.js';
import { defineHandler, type Handler, type HandlerTools } from './defineHandler.js';
import { PermanentFailure } from './errors.js';
import { describeIssue, type HandlerEvent } from './event.js';

export interface StepEvent<I> {
  /** The step id: the idempotency key of this step's effect. */
  id: string;
  workflow: string;
  version: number;
  instanceId: string;
  step: string;
  phase: StepPayload['phase'];
  /** The start event's payload, parsed by `input`. */
  input: I;
  results: Record<string, unknown>;
  failure: StepPayload['failure'];
  event: HandlerEvent<StepPayload>;
}

export interface StepSpec<S extends z.ZodType> {
  /** Also its URL path: POST /<name>. */
  name: string;
  /** The part of the start event's payload it reads; a step whose input lacks it is refused (422, dead: the step fails). */
  input: S;
  /** Resolves to the step's result (JSON, or undefined for none); throws a HandlerFailure to fail or retry. */
  handle(step: StepEvent<z.infer<S>>, tools: HandlerTools): Promise<unknown>;
}

const stepPayload = z.object({
  workflow: z.string(),
  version: z.number().int(),
  instanceId: z.string(),
  stepId: z.string(),
  step: z.string(),
  phase: z.enum(['forward', 'compensate']),
  input: z.record(z.string(), z.unknown()),
  results: z.record(z.string(), z.unknown()),
  failure: z.object({ step: z.string(), reason: z.string(), eventId: z.string().optional() }).nullable(),
});

export function defineStep<S extends z.ZodType>(spec: StepSpec<S>): Handler {
  return defineHandler({
    name: spec.name,
    on: [STEP_EVENT_TYPE],
    // The step payload's shape; the input is checked below, against the step's own schema.
    data: stepPayload,
    async handle(event, tools) {
      const data = event.data as StepPayload;
      const parsed = spec.input.safeParse(data.input);
      if (!parsed.success) throw new PermanentFailure(`step ${data.step} of ${data.workflow}: input lacks what ${spec.name} needs: ${describeIssue(parsed.error)}`);
      const input = parsed.data as z.infer<S>;
      const result = await spec.handle(
        {
          id: data.stepId,
          workflow: data.workflow,
          version: data.version,
          instanceId: data.instanceId,
          step: data.step,
          phase: data.phase,
          input,
          results: data.results,
          failure: data.failure,
          event: event as HandlerEvent<StepPayload>,
        },
        tools,
      );
      return { outcome: 'step-done', result: result === undefined ? null : result };
    },
  });
}
