// sse_fidelity.mjs — does the official openai SDK parse vagent's fake OpenAI
// server (tests/support/fake_openai.c)? Streams from the fake binary
// ($FAKE_OPENAI, started here) and checks what the SDK made of it: text
// deltas, finish_reason, the usage chunk, a tool call joined from its
// argument fragments, a 429 with retry-after, an error event in the
// stream, and a stream cut without [DONE]. Run by `make check-npm`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const sdk = JSON.parse(readFileSync(new URL('./node_modules/openai/package.json', import.meta.url))).version;

const fake = spawn(process.env.FAKE_OPENAI, ['--pace-ms', '5'], { stdio: ['pipe', 'pipe', 'inherit'] });
const [line] = await once(fake.stdout, 'data');
const baseURL = line.toString().trim();
const client = new OpenAI({ baseURL, apiKey: 'sk-fake', maxRetries: 0 });
const started = Date.now();
let checks = 0;

async function collect(stream) {
  const out = { text: '', finish: null, usage: null, chunks: 0 };
  for await (const chunk of stream) {
    out.chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    const c = chunk.choices[0];
    if (c?.delta?.content) out.text += c.delta.content;
    if (c?.finish_reason) out.finish = c.finish_reason;
    if (chunk.usage) out.usage = chunk.usage;
  }
  return out;
}

try {
  // 1. text deltas, finish_reason, usage
  const text = await collect(await client.chat.completions.create({
    model: 'fake-gpt', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hello there' }],
  }));
  assert.equal(text.text, 'Hello! How can I help you today?');
  assert.equal(text.finish, 'stop');
  assert.ok(text.usage && text.usage.total_tokens === text.usage.prompt_tokens + text.usage.completion_tokens);
  checks++;

  // 2. a tool call split in fragments, joined by the SDK's stream helper
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } } } } }];
  const runner = client.chat.completions.stream({
    model: 'fake-gpt', tools, messages: [{ role: 'user', content: 'weather in Paris?' }],
  });
  const fragments = [];
  runner.on('tool_calls.function.arguments.delta', (e) => fragments.push(e.arguments_delta));
  const final = await runner.finalChatCompletion();
  const choice = final.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, 'Let me check the weather.');
  assert.equal(choice.message.tool_calls.length, 1);
  assert.equal(choice.message.tool_calls[0].id, 'call_fake1');
  assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
  assert.equal(choice.message.tool_calls[0].function.arguments, '{"city":"Paris","unit":"celsius"}');
  assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { city: 'Paris', unit: 'celsius' });
  assert.ok(fragments.length >= 2, `arguments came in ${fragments.length} fragments`);
  checks++;

  // 3. 429: the SDK's RateLimitError, with the body's code and the header
  await assert.rejects(client.chat.completions.create({
    model: 'fake-gpt', stream: true, messages: [{ role: 'user', content: 'rate me' }],
  }), (e) => e instanceof OpenAI.RateLimitError && e.status === 429 &&
      e.code === 'rate_limit_exceeded' && e.headers.get('retry-after') === '1');
  checks++;

  // 4. an {"error"} event inside the stream: the SDK throws
  await assert.rejects(collect(await client.chat.completions.create({
    model: 'fake-gpt', stream: true, messages: [{ role: 'user', content: 'broken' }],
  })), (e) => e instanceof OpenAI.APIError && /server had an error/.test(e.message));
  checks++;

  // 5. a stream cut without [DONE]: what the SDK delivers stops short
  let cut = null;
  try {
    cut = await collect(await client.chat.completions.create({
      model: 'fake-gpt', stream: true, messages: [{ role: 'user', content: 'cut' }],
    }));
  } catch (e) {
    cut = { error: e };
  }
  assert.ok(cut.error || cut.finish === null, 'a cut stream has no finish_reason');
  checks++;

  console.log(`check-npm: openai ${sdk} parsed the fake: ${checks} checks passed in ${Date.now() - started} ms`);
} finally {
  fake.stdin.end();
  await once(fake, 'exit');
}
