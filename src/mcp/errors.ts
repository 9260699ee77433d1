import { defineErrors } from '../core/errors.ts';

export const mcpErrors = defineErrors('mcp', {
  methodNotAllowed: {
    code: 'method_not_allowed',
    status: 405,
    message: 'This MCP server is stateless: send JSON-RPC messages with POST; it opens no event stream.',
  },
});
