/** OpenID Connect claims → Crucible role and project, as the README's claim settings describe. */
import { describe, expect, it } from 'vitest';
import { claimsToIdentity } from '../../src/domain/web-session.js';

const mapping = { roleClaim: 'crucible_role', projectClaim: 'crucible_project' };

describe('claimsToIdentity', () => {
  it('reads role and project from the configured claims, and a name for people', () => {
    expect(claimsToIdentity({ sub: 'u1', name: 'Ada', crucible_role: 'researcher', crucible_project: 'alpha' }, mapping)).toEqual({
      subject: 'u1',
      name: 'Ada',
      role: 'researcher',
      project: 'alpha',
    });
  });

  it('takes the most capable role from a list (groups) and follows dot paths into nested claims', () => {
    const claims = { sub: 'u2', email: 'b@example.com', realm_access: { roles: ['offline_access', 'viewer', 'admin'] }, org: { project: 'beta' } };
    expect(claimsToIdentity(claims, { roleClaim: 'realm_access.roles', projectClaim: 'org.project' })).toEqual({
      subject: 'u2',
      name: 'b@example.com',
      role: 'admin',
      project: 'beta',
    });
  });

  it('uses the configured defaults when a claim is absent, and refuses without them, naming the claim', () => {
    expect(claimsToIdentity({ sub: 'u3' }, { ...mapping, defaultRole: 'viewer', defaultProject: 'default' })).toMatchObject({
      role: 'viewer',
      project: 'default',
    });
    expect(claimsToIdentity({ sub: 'u3', crucible_project: 'alpha' }, mapping)).toEqual({ refused: expect.stringContaining('claim crucible_role') });
    expect(claimsToIdentity({ sub: 'u3', crucible_role: 'viewer' }, mapping)).toEqual({ refused: expect.stringContaining('claim crucible_project') });
    expect(claimsToIdentity({ sub: 'u3', crucible_role: 'root', crucible_project: 'alpha' }, mapping)).toEqual({
      refused: expect.stringContaining('names none of the roles'),
    });
    expect(claimsToIdentity({ sub: 'u3', crucible_role: 'viewer', crucible_project: 'Not A Project!' }, mapping)).toEqual({
      refused: expect.stringContaining('not a project name'),
    });
    expect(claimsToIdentity({ crucible_role: 'viewer', crucible_project: 'alpha' }, mapping)).toEqual({ refused: expect.stringContaining('no subject') });
  });
});
