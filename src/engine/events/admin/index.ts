/** The operations the admin API calls: redeliver, pause/resume, manual invocation, replay. */
export { redeliver } from './redeliver.js';
export { pauseTrigger, resumeTrigger } from './pause.js';
export { invokeManual, ManualInvocationError } from './invokeManual.js';
export { replay, ReplayError, type ReplayOptions, type ReplayResult } from './replay.js';
