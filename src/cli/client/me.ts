// The parts of the API's `GET /v1/me` answer the CLI reads.

export interface Me {
  readonly principal: { readonly kind: string; readonly id: string; readonly auth_method: string };
  readonly user: { readonly id: string; readonly email: string; readonly name: string } | null;
  readonly orgs: readonly {
    readonly id: string;
    readonly slug: string;
    readonly name: string;
    readonly role: string;
  }[];
}
