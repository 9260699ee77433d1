import type { AuditService } from '../audit/index.ts';

export function createGroupFunctions(_audit: AuditService) {
  return {};
}
