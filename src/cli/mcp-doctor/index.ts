// `gatehouse mcp doctor`: replays what MCP clients do against an MCP server URL (challenge,
// discovery, CORS, registration, the token's audience) and reports each step. Client side:
// HTTP only, no database.
export { createProbe } from './http-probe.ts';
export { type DoctorReport, formatHumanReport, redactSecret } from './report.ts';
export { InvalidServerUrlError, parseMcpServerUrl } from './resource-url.ts';
export { type DoctorOptions, runMcpDoctor } from './run.ts';
