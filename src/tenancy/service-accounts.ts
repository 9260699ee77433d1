import type { AuditService } from '../audit/index.ts';

export function createServiceAccountFunctions(_audit: AuditService) {
  return {};
}
