/** The error a promise rejects with (an API error's code, field and message), or a failure when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; field?: string; message: string }> {
  try {
    await p
  } catch (e) {
    return e as { code?: string; field?: string; message: string }
  }
  throw new Error('expected a rejection')
}
