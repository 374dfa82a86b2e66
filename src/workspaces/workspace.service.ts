import { AppError } from '../errors/app-error.ts';
import { requireDisplayName } from './display-name.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId } from '../shared/secrets.ts';
import { SLUG_PATTERN, slugify } from './slug.ts';
import type { Workspace } from './workspace-types.ts';
import type { Page, WorkspaceRepository } from './workspaces.port.ts';

export class WorkspaceService {
  readonly #repository: WorkspaceRepository;
  readonly #clock: Clock;

  constructor(deps: { workspaces: WorkspaceRepository; clock: Clock }) {
    this.#repository = deps.workspaces;
    this.#clock = deps.clock;
  }

  /** An explicit slug must be free; a derived one gets a numeric suffix until it is. */
  async create(input: { name: string; slug?: string | undefined }): Promise<Workspace> {
    const name = requireDisplayName(input.name);
    if (input.slug !== undefined && !SLUG_PATTERN.test(input.slug)) {
      throw new AppError(
        'request.invalid_body',
        'slug must be 1–48 lower-case letters, digits or dashes, not starting or ending with a dash',
      );
    }
    const base = input.slug ?? slugify(name);
    for (let attempt = 1; attempt <= 50; attempt++) {
      const slug = attempt === 1 ? base : `${base.slice(0, 44)}-${attempt}`;
      const workspace: Workspace = { id: generateId('ws'), slug, name, createdMs: this.#clock.now() };
      if (await this.#repository.create(workspace)) return workspace;
      if (input.slug !== undefined)
        throw new AppError('workspace.slug_taken', `a workspace with slug "${slug}" exists`);
    }
    throw new AppError('workspace.slug_taken', `no free slug near "${base}"`);
  }

  async get(idOrSlug: string): Promise<Workspace> {
    const workspace = await this.#repository.findByIdOrSlug(idOrSlug);
    if (!workspace) throw new AppError('workspace.not_found', `no workspace "${idOrSlug}"`);
    return workspace;
  }

  list(page: Page): Promise<Workspace[]> {
    return this.#repository.list(page);
  }
}
