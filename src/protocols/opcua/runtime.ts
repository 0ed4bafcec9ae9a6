// What the OPC UA source needs from node-opcua at run time, loaded by OpcuaSource.start() with a
// dynamic import: node-opcua takes about a second to load, which a site without OPC UA sources,
// and `gridgate check-config` (systemd's ExecStartPre, at every start), should not pay.

export { routeLibraryLogs } from './library-logs.js';
export { createClient, resolveItems, userIdentity } from './session.js';
export { ItemSubscription } from './subscription.js';
export { dataTypeName, eventTime, recordValue } from './values.js';
