import type { AuditService } from '../audit/index.ts';

export function createProjectFunctions(_audit: AuditService) {
  return {};
}
