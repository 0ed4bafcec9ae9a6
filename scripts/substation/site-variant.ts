import { readFile, writeFile } from 'node:fs/promises';
import { parseDocument, type Document } from 'yaml';

// A copy of a site config with every port moved by an offset (the broker, the metrics endpoint,
// each device), so a soak test or a benchmark can run the demo's substation beside the demo, the
// test broker or a developer's own services. Comments and layout are kept.

const HOST_PORT = /^(.*):(\d+)$/;

export async function writeShiftedSite(from: string, to: string, portOffset: number, edit?: (doc: Document) => void): Promise<void> {
  const doc = parseDocument(await readFile(from, 'utf8'));
  const shift = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    if (value.startsWith('opc.tcp://')) {
      const url = new URL(value);
      url.port = String(Number(url.port || 4840) + portOffset);
      return url.toString().replace(/\/$/, '');
    }
    const m = HOST_PORT.exec(value);
    return m ? `${m[1]}:${Number(m[2]) + portOffset}` : value;
  };
  const brokers = doc.getIn(['kafka', 'brokers']) as { items: { value: unknown }[] };
  for (const b of brokers.items) b.value = shift(b.value);
  doc.setIn(['http', 'port'], Number(doc.getIn(['http', 'port'])) + portOffset);
  const sources = (doc.get('sources') as { items: unknown[] }).items.length;
  for (let i = 0; i < sources; i++) {
    for (const path of [['address'], ['udp', 'bind'], ['endpoint']]) {
      const at = ['sources', i, ...path];
      if (doc.hasIn(at)) doc.setIn(at, shift(doc.getIn(at)));
    }
  }
  edit?.(doc);
  await writeFile(to, doc.toString({ lineWidth: 0 }));
}
