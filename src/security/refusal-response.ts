/** A refused HTTP request's answer: the status, and the GraphQL-style error body a client parses. */
export function refusalResponse(
  fetchAPI: { Response: typeof Response },
  refusal: { status: number; code?: string; message?: string },
): Response {
  const body = JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
  return new fetchAPI.Response(body, {
    status: refusal.status,
    headers: {
      'content-type': 'application/json',
      // RFC 9110: a 401 names the scheme the caller should authenticate with.
      ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    },
  });
}
