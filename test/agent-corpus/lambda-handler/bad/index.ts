// A greeting, written as an AWS Lambda handler behind API Gateway.
export const handler = async (event: { body: string }) => {
  const { name } = JSON.parse(event.body) as { name: string }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: `Hello, ${name}` }),
  }
}
