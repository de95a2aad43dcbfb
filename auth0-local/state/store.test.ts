import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { Store, type TenantMeta } from './store.js';

const meta = (name: string): TenantMeta => ({
  name,
  port: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  signingKey: { kid: 'k', privateJwk: {}, publicJwk: {} },
  managementClientId: 'id',
  managementClientSecret: 'secret',
  legacyEnabledClients: true,
  rateLimits: {},
});

describe('Table', () => {
  it('pages after a row even when earlier rows were deleted, and looks rows up by a unique index', () => {
    const tenant = Store.open().putTenant(meta('t'));
    const orgs = tenant.table<{ id: string; name: string }>('organizations');
    for (let i = 0; i < 10; i++) orgs.put(`org_${i}`, { id: `org_${i}`, name: `n${i}` });
    const first = orgs.after(0, 4);
    expect(first.rows.map((row) => row.id)).toEqual(['org_0', 'org_1', 'org_2', 'org_3']);
    orgs.delete('org_2');
    orgs.delete('org_4');
    const second = orgs.after(first.lastSeq!, 4);
    expect(second.rows.map((row) => row.id)).toEqual(['org_5', 'org_6', 'org_7', 'org_8']);
    expect(second.more).toBe(true);
    expect(orgs.getBy('name', 'n7')?.id).toBe('org_7');
    orgs.put('org_7', { id: 'org_7', name: 'renamed' });
    expect(orgs.getBy('name', 'n7')).toBeUndefined();
    expect(orgs.getBy('name', 'renamed')?.id).toBe('org_7');
    expect([...orgs.values()].map((row) => row.id)).toEqual([
      'org_0',
      'org_1',
      'org_3',
      'org_5',
      'org_6',
      'org_7',
      'org_8',
      'org_9',
    ]);
  });
});

describe('Store persistence', () => {
  it('replays the journal over the snapshot, skipping lines the snapshot already holds', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'store-')), 'state.json');
    const store = Store.open(file);
    const tenant = store.putTenant(meta('t'));
    tenant.table<{ v: number }>('things').put('a', { v: 1 });
    store.flush();
    store.compact();
    tenant.table<{ v: number }>('things').put('b', { v: 2 });
    tenant.table<{ v: number }>('things').put('a', { v: 3 });
    store.flush();
    // A crash between the snapshot's rename and the journal's truncation leaves folded lines behind: harmless.
    const reloaded = Store.open(file);
    expect(
      [...reloaded.tenant('t')!.table<{ v: number }>('things').entries()].map(([k, , v]) => [k, v.v]),
    ).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('refuses a journal corrupted in the middle, but not one with a torn last line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'store-')), 'state.json');
    const store = Store.open(file);
    store.putTenant(meta('t')).table<{ v: number }>('things').put('a', { v: 1 });
    store.flush();
    const journal = readFileSync(`${file}.log`, 'utf8');
    writeFileSync(`${file}.log`, `${journal}{"l":2,"ops":[{"o":"put"`);
    expect(Store.open(file).tenant('t')?.table('things').size).toBe(1);
    writeFileSync(`${file}.log`, `{"l":1,"ops":[\n${journal}`);
    expect(() => Store.open(file)).toThrow(/corrupt at line 1/);
  });
});
