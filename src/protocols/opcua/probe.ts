import { AttributeIds } from 'node-opcua';
import { qualityJson } from '../shared/quality.js';
import { securityPolicyOf, type OpcuaSourceConfig } from './config.js';
import { certificateInfo, openPki } from './pki.js';
import { planItems } from './plan.js';
import { createClient, resolveItems, userIdentity } from './session.js';
import { statusQuality } from './status.js';
import { dataTypeName, eventTime, recordValue } from './values.js';

// `gridgate probe opcua`: open the source's session with its own security settings and identity,
// resolve every configured node once (browse paths too) and read it: value, status, time stamps
// and data type per item. The commissioning report; reads only.

export interface ProbedItem {
  name: string;
  target: string;
  nodeId: string | null;
  value: number | boolean | string | null;
  dataType: string;
  status: string;
  statusCode: number;
  quality: { level: string; reasons: string[] };
  sourceTime: string | null;
  serverTime: string | null;
  unit: string;
}

export interface OpcuaProbeReport {
  source: string;
  endpoint: string;
  securityMode: string;
  securityPolicy: string;
  connectMs: number | null;
  server: { thumbprint: string; subject: string; notAfter: string } | null;
  error: string | null;
  items: ProbedItem[];
}

const iso = (us: number | null): string | null => (us === null ? null : new Date(us / 1000).toISOString());

export async function probeOpcua(source: OpcuaSourceConfig, pkiDir: string): Promise<OpcuaProbeReport> {
  const report: OpcuaProbeReport = {
    source: source.name,
    endpoint: source.endpoint,
    securityMode: source.securityMode,
    securityPolicy: securityPolicyOf(source),
    connectMs: null,
    server: null,
    error: null,
    items: [],
  };
  const { items } = planItems(source);
  const pki = await openPki(pkiDir);
  const client = createClient(source, pki);
  const started = performance.now();
  try {
    await client.connect(source.endpoint);
    const der = (client as unknown as { serverCertificate?: Buffer }).serverCertificate;
    if (der?.length) {
      const info = certificateInfo(der);
      report.server = { thumbprint: info.thumbprint, subject: info.subject, notAfter: info.notAfter.toISOString() };
    }
    const session = await client.createSession(await userIdentity(source));
    report.connectMs = Math.round(performance.now() - started);
    try {
      const { resolved, unresolved } = await resolveItems(session, items);
      const values = resolved.length === 0 ? [] : await session.read(resolved.map((r) => ({ nodeId: r.nodeId, attributeId: AttributeIds.Value })), 0);
      const now = Date.now() * 1000;
      resolved.forEach((r, i) => {
        const dv = values[i]!;
        const t = eventTime(dv, now);
        const code = dv.statusCode.value >>> 0;
        report.items.push({
          name: r.item.name,
          target: r.item.target,
          nodeId: r.nodeId,
          value: recordValue(dv.value),
          dataType: dataTypeName(dv.value),
          status: dv.statusCode.name,
          statusCode: code,
          quality: qualityJson(statusQuality(code)),
          sourceTime: t.from === 'source' ? iso(t.us) : null,
          serverTime: iso(t.serverUs),
          unit: r.item.unit,
        });
      });
      for (const u of unresolved) {
        const code = u.status.value >>> 0;
        report.items.push({ name: u.item.name, target: u.item.target, nodeId: null, value: null, dataType: 'Null', status: u.status.name, statusCode: code, quality: qualityJson(statusQuality(code)), sourceTime: null, serverTime: null, unit: u.item.unit });
      }
      report.items.sort((a, b) => items.findIndex((i) => i.name === a.name) - items.findIndex((i) => i.name === b.name));
    } finally {
      await session.close().catch(() => undefined);
    }
  } catch (err) {
    report.error = (err as Error).message;
  } finally {
    await client.disconnect().catch(() => undefined);
    await pki.dispose();
  }
  return report;
}

export function opcuaProbeSummary(r: OpcuaProbeReport): string {
  const lines = [`OPC UA source ${r.source} at ${r.endpoint} (${r.securityMode}, ${r.securityPolicy})`];
  if (r.server) lines.push(`  server certificate ${r.server.subject}, thumbprint ${r.server.thumbprint}, expires ${r.server.notAfter}`);
  if (r.error) {
    lines.push(`  FAILED: ${r.error}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`  session open in ${r.connectMs} ms; ${r.items.length} item(s)`);
  for (const i of r.items) {
    const q = i.quality.reasons.length ? `${i.quality.level} (${i.quality.reasons.join(', ')})` : i.quality.level;
    lines.push(
      `  ${i.name.padEnd(24)} ${String(i.value ?? '-').padStart(14)} ${i.unit.padEnd(5)} ${i.dataType.padEnd(9)} ${i.status} → ${q}`,
      `  ${''.padEnd(24)} node ${i.nodeId ?? `(${i.target}: not found)`}, source ${i.sourceTime ?? '-'}, server ${i.serverTime ?? '-'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
