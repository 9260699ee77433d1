// Projects: named containers inside an org, the platform's unit of work (SPEC §1). `user`
// may write them and `viewer` only read them; names are unique per org, ignoring case.
import type { AuditService } from '../audit/index.ts';
import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type ListQuery, listCursorAfter, type Page, toPage } from '../core/pagination.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { tenancyErrors } from './errors.ts';
import * as resources from './resource-store.ts';
import * as store from './store.ts';
import { normalizeName } from './validation.ts';

export interface Project {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

function toProject(row: resources.ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}

export function createProjectFunctions(audit: AuditService) {
  async function listProjects(ctx: Ctx, orgId: string, query: ListQuery): Promise<Page<Project>> {
    const after = listCursorAfter(query.cursor);
    const rows = await resources.selectProjects(ctx, { orgId, after, limit: query.limit + 1 });
    return toPage(rows.map(toProject), query.limit);
  }

  async function getProject(ctx: Ctx, orgId: string, projectId: string): Promise<Project> {
    const row = await resources.selectProject(ctx, orgId, projectId);
    if (!row) throw new GatehouseError(tenancyErrors.projectNotFound, { field: 'project_id' });
    return toProject(row);
  }

  async function createProject(
    ctx: Ctx,
    orgId: string,
    input: { name: string; description?: string },
  ): Promise<Project> {
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const name = input.name.trim();
      const row: resources.ProjectRow = {
        id: newId('prj', now),
        org_id: orgId,
        name,
        name_normalized: normalizeName(name),
        description: input.description ?? '',
        created_at: now,
        updated_at: now,
      };
      await store.insertUnique(() => resources.insertProject(tx, row), tenancyErrors.nameTaken, 'name');
      await audit.append(tx, {
        orgId,
        action: 'project.created',
        target: { kind: 'project', id: row.id },
        data: { name },
      });
      return toProject(row);
    });
  }

  async function updateProject(
    ctx: Ctx,
    orgId: string,
    projectId: string,
    patch: { name?: string; description?: string },
  ): Promise<Project> {
    return withTx(ctx, async (tx) => {
      const before = await getProject(tx, orgId, projectId);
      const set: Parameters<typeof resources.updateProjectRow>[3] = { updated_at: tx.clock.now() };
      const data: Record<string, unknown> = {
        fields: Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined),
      };
      if (patch.name !== undefined) {
        const name = patch.name.trim();
        set.name = name;
        set.name_normalized = normalizeName(name);
        data.name = { from: before.name, to: name };
      }
      // A description is free text and not security-relevant: the event says it changed, not to what.
      if (patch.description !== undefined) set.description = patch.description;
      await store.insertUnique(
        () => resources.updateProjectRow(tx, orgId, projectId, set),
        tenancyErrors.nameTaken,
        'name',
      );
      await audit.append(tx, {
        orgId,
        action: 'project.updated',
        target: { kind: 'project', id: projectId },
        data,
      });
      return getProject(tx, orgId, projectId);
    });
  }

  async function deleteProject(ctx: Ctx, orgId: string, projectId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const project = await getProject(tx, orgId, projectId);
      if (!(await resources.deleteProjectRow(tx, orgId, projectId)))
        throw new GatehouseError(tenancyErrors.projectNotFound, { field: 'project_id' });
      await audit.append(tx, {
        orgId,
        action: 'project.deleted',
        target: { kind: 'project', id: projectId },
        data: { name: project.name },
      });
    });
  }

  return { listProjects, getProject, createProject, updateProject, deleteProject };
}
