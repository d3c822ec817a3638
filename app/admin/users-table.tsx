import Link from "next/link";
import { changeRoleAction, setActiveAction, signOutEverywhereAction } from "./actions";
import { buttonClasses } from "@/components/ui/button";
import { isDeactivated } from "@/lib/accounts/account-state";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { SubmitButton } from "@/components/ui/submit-button";
import { ROLES } from "@/db/schema";
import { userListSearch, USERS_PAGE_SIZE, type UserListPage, type UserListQuery, type UserListRow } from "@/lib/staff/admin";
import { cn } from "@/lib/web/cn";

const selectClasses =
  "h-10 rounded-md border border-input bg-background px-2 text-sm focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-ring";

function formatDate(date: Date): string {
  return `${date.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

/** The filter form: a plain GET form, so it works without JavaScript and the URL can be shared. */
function Filters({ query }: { query: UserListQuery }) {
  return (
    <form
      method="get"
      action="/admin"
      className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-[2fr_1fr_1fr_1fr_auto] lg:items-end"
      role="search"
      aria-label="Users"
    >
      <div className="space-y-1">
        <Label htmlFor="q">Email contains</Label>
        <Input id="q" name="q" type="search" defaultValue={query.q} spellCheck={false} autoComplete="off" />
      </div>
      <div className="space-y-1">
        <Label htmlFor="verified">Email</Label>
        <select id="verified" name="verified" defaultValue={query.verified} className={cn(selectClasses, "w-full")}>
          <option value="all">Verified or not</option>
          <option value="verified">Verified</option>
          <option value="unverified">Unverified</option>
        </select>
      </div>
      <div className="space-y-1">
        <Label htmlFor="role">Role</Label>
        <select id="role" name="role" defaultValue={query.role} className={cn(selectClasses, "w-full")}>
          <option value="all">Any role</option>
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
      </div>
      <div className="space-y-1">
        <Label htmlFor="sort">Sort</Label>
        <select id="sort" name="sort" defaultValue={query.sort} className={cn(selectClasses, "w-full")}>
          <option value="created_desc">Newest first</option>
          <option value="created_asc">Oldest first</option>
        </select>
      </div>
      <button type="submit" className={buttonClasses("primary")}>
        Show
      </button>
    </form>
  );
}

function RowActions({ row, returnTo }: { row: UserListRow; returnTo: string }) {
  const hidden = (
    <>
      <input type="hidden" name="userId" value={row.id} />
      <input type="hidden" name="returnTo" value={returnTo} />
    </>
  );
  return (
    <div className="flex flex-wrap items-center gap-2">
      <form action={changeRoleAction} className="flex items-center gap-2">
        {hidden}
        <label htmlFor={`role-${row.id}`} className="sr-only">
          New role for {row.email}
        </label>
        <select id={`role-${row.id}`} name="role" defaultValue={row.role} className={selectClasses}>
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
        <SubmitButton variant="secondary" pendingLabel="Saving…">
          Change role<span className="sr-only"> of {row.email}</span>
        </SubmitButton>
      </form>
      {row.isActive || row.emailVerifiedAt ? (
        <form action={setActiveAction}>
          {hidden}
          <input type="hidden" name="active" value={row.isActive ? "false" : "true"} />
          <SubmitButton variant="secondary" pendingLabel="Saving…">
            {row.isActive ? "Deactivate" : "Reactivate"}
            <span className="sr-only"> {row.email}</span>
          </SubmitButton>
        </form>
      ) : null}
      <form action={signOutEverywhereAction}>
        {hidden}
        <SubmitButton variant="secondary" pendingLabel="Signing out…">
          Sign out everywhere<span className="sr-only"> ({row.email})</span>
        </SubmitButton>
      </form>
    </div>
  );
}

export function UsersTable({ page, query, actorId, canManage }: { page: UserListPage; query: UserListQuery; actorId: string; canManage: boolean }) {
  const returnTo = userListSearch(query, { page: page.page });
  const first = page.total === 0 ? 0 : (page.page - 1) * USERS_PAGE_SIZE + 1;
  const last = (page.page - 1) * USERS_PAGE_SIZE + page.rows.length;
  return (
    <section aria-labelledby="users-heading" className="space-y-4" id="users">
      <h2 id="users-heading" className="text-xl font-semibold tracking-tight">
        Users
      </h2>
      <Filters query={query} />
      <p className="text-muted-foreground text-sm" role="status">
        {page.total === 0 ? "No users match." : `Showing ${first}–${last} of ${page.total} user${page.total === 1 ? "" : "s"}.`}
      </p>
      {page.rows.length > 0 ? (
        <div className="border-border overflow-x-auto rounded-md border" tabIndex={0} role="region" aria-label="Users table">
          <table className="w-full min-w-[44rem] text-left text-sm" data-testid="users-table">
            <thead className="bg-muted">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">
                  Email
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Name
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Role
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Status
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Created
                </th>
                {canManage ? (
                  <th scope="col" className="px-3 py-2 font-medium">
                    Actions
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody className="divide-border divide-y">
              {page.rows.map((row) => (
                <tr key={row.id} data-testid="user-row" data-email={row.email}>
                  <th scope="row" className="px-3 py-2 font-medium break-words">
                    {row.email}
                  </th>
                  <td className="px-3 py-2">{row.name}</td>
                  <td className="px-3 py-2" data-testid="user-role">
                    {row.role}
                  </td>
                  <td className="px-3 py-2">
                    {row.emailVerifiedAt ? "Verified" : "Unverified"}
                    {isDeactivated(row) ? ", deactivated" : ""}
                  </td>
                  <td className="px-3 py-2 whitespace-nowrap">{formatDate(row.createdAt)}</td>
                  {canManage ? (
                    <td className="px-3 py-2">
                      {row.id === actorId ? <span className="text-muted-foreground">This is you</span> : <RowActions row={row} returnTo={returnTo} />}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {page.pages > 1 ? (
        <nav aria-label="Pages of users" className="flex items-center justify-between gap-3 text-sm">
          {page.page > 1 ? (
            <Link href={`/admin${userListSearch(query, { page: page.page - 1 })}#users`} className="underline underline-offset-4" rel="prev">
              Previous page
            </Link>
          ) : (
            <span />
          )}
          <span>
            Page {page.page} of {page.pages}
          </span>
          {page.page < page.pages ? (
            <Link href={`/admin${userListSearch(query, { page: page.page + 1 })}#users`} className="underline underline-offset-4" rel="next">
              Next page
            </Link>
          ) : (
            <span />
          )}
        </nav>
      ) : null}
    </section>
  );
}
