import { config, envelope, NOW, parseEvent } from '../../support/handler-fixtures';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '..', '..', '..', 'events');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const cfg = config({ ALLOWED_DOMAINS: 'orders' });

describe('events/: ready console test events', () => {
  test('the four documented events exist', () => {
    expect(files.sort()).toEqual(['list.json', 'selector-dry-run.json', 'selector.json', 'single.json']);
  });

  test.each(files)('%s is a valid console request and a valid EventBridge detail', (file) => {
    const event: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const asConsole = parseEvent(event, { awsRequestId: 'r' }, cfg, NOW);
    const asEvent = parseEvent(envelope(event), { awsRequestId: 'r' }, cfg, NOW);
    expect(asEvent.request).toEqual(asConsole.request);
    const expectedKind = file.startsWith('selector') ? 'selector' : file === 'list.json' ? 'list' : 'single';
    expect(asConsole.request.target.kind).toBe(expectedKind);
    expect(asConsole.request.dryRun === true).toBe(file === 'selector-dry-run.json');
  });
});
