/**
 * The handlers' only way to log: one JSON line per step, with ids and names only. Never pass an SDK
 * response, an event or a stored value here.
 */
export function logStep(step: string, ids: Record<string, string | undefined>): void {
  console.log(JSON.stringify({ step, ...ids }));
}
