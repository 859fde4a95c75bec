/**
 * Error helpers shared by the SDK wrappers. They read only an error's name, code and message:
 * never the raw response, which may carry request data.
 */

interface ServiceErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
}

function fields(error: unknown): ServiceErrorShape {
  return typeof error === 'object' && error !== null ? (error as ServiceErrorShape) : {};
}

/** `Name: message` of an SDK error, for failure reasons. */
export function describeError(error: unknown): string {
  const { name, message } = fields(error);
  const text = typeof message === 'string' && message !== '' ? message : String(error);
  return typeof name === 'string' && name !== '' && name !== 'Error' ? `${name}: ${text}` : text;
}

export function errorName(error: unknown): string | undefined {
  const { name } = fields(error);
  return typeof name === 'string' ? name : undefined;
}

/**
 * Lightsail's "not found". Older SDKs read the body's `code` before `__type` and surface the base
 * exception class instead of NotFoundException, so also accept `DoesNotExist` in code or message
 * (as Terraform's provider does).
 */
export function isLightsailNotFound(error: unknown): boolean {
  const { name, code, message } = fields(error);
  if (name === 'NotFoundException') {
    return true;
  }
  return [code, message].some((text) => typeof text === 'string' && text.includes('DoesNotExist'));
}
