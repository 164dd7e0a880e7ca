// One of Auth0's Node SDKs (the package named by argv[2]: "auth0-v5", the support article's
// major, or "auth0", the current one) making, against a local tenant, every Management API call
// the stack, the Action, adopt, backfill and reconcile make, then the error cases the
// conformance suite checks, and a connection's options as the options scopes keep them. Prints
// one JSON object: {calls: {name: answer}, errors: {case: {statusCode, body}}, options: {...}}. Called by tests/conformance/test_node_sdk.py with AUTH0_DOMAIN,
// AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and NODE_EXTRA_CA_CERTS set.
"use strict";

const { ManagementClient } = require(process.argv[2]);

const client = new ManagementClient({
  domain: process.env.AUTH0_DOMAIN,
  clientId: process.env.AUTH0_CLIENT_ID,
  clientSecret: process.env.AUTH0_CLIENT_SECRET,
});
const audience = `https://${process.env.AUTH0_DOMAIN}/api/v2/`;
const calls = {};
const errors = {};
const options = {};

// Each call's name is the local tenant's route name (devtools/localtenant/route_names.py).
async function call(name, work) {
  const answer = await work();
  calls[name] = answer === undefined ? null : withoutSecrets(answer);
  return answer;
}

// An answer as printed: an application's secret left out, even a throwaway tenant's.
function withoutSecrets(answer) {
  return JSON.parse(JSON.stringify(answer, (key, value) =>
    key === "client_secret" ? undefined : value));
}

async function failing(name, work) {
  try {
    await work();
    errors[name] = { statusCode: 200 };
  } catch (error) {
    errors[name] = { statusCode: error.statusCode, body: error.body };
  }
}

async function main() {
  const suffix = Date.now().toString(36);
  // --- what the stack creates (the Pulumi program's resources) ---------------------------------
  const connection = await call("connections.create", () =>
    client.connections.create({ name: `conformance-${suffix}`, strategy: "auth0" }));
  const organization = await call("organizations.create", () =>
    client.organizations.create({ name: `conformance-${suffix}`, display_name: "Conformance" }));
  await call("organizations.enabled_connections.create", () =>
    client.organizations.enabledConnections.add(organization.id, {
      connection_id: connection.id,
      assign_membership_on_login: false,
    }));
  const app = await call("clients.create", () =>
    client.clients.create({
      name: `conformance-${suffix}`,
      app_type: "non_interactive",
      grant_types: ["client_credentials"],
    }));
  await call("client_grants.create", () =>
    client.clientGrants.create({
      client_id: app.client_id,
      audience,
      scope: ["create:organization_members", "read:organization_connections"],
    }));
  const role = await call("roles.create", () =>
    client.roles.create({ name: `conformance-${suffix}`, description: "Conformance" }));
  const action = await call("actions.create", () =>
    client.actions.create({
      name: `conformance-${suffix}`,
      code: "exports.onExecutePostLogin = async () => {};",
      runtime: "node22",
      supported_triggers: [{ id: "post-login", version: "v3" }],
    }));
  await call("actions.update", () =>
    client.actions.update(action.id, { code: "exports.onExecutePostLogin = async () => {};\n" }));
  // A deploy before the build ends is refused with the message every tool retries on.
  for (let tries = 0; ; tries += 1) {
    try {
      await call("actions.deploy", () => client.actions.deploy(action.id));
      break;
    } catch (error) {
      const built = /must be in the 'built' state/.test(JSON.stringify(error.body));
      if (!built || tries > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await call("actions.bindings.update", () =>
    client.actions.triggers.bindings.updateMany("post-login", {
      bindings: [{ ref: { type: "action_id", value: action.id }, display_name: "conformance" }],
    }));
  await call("resource_servers.get", () => client.resourceServers.get(audience));
  await call("tenants.settings.get", () => client.tenants.settings.get());
  const user = await call("users.create", () =>
    client.users.create({
      connection: connection.name,
      email: `someone-${suffix}@example.com`,
      email_verified: true,
      password: `Conformance-${suffix}-!`,
    }));

  // --- what the Action calls (action_templates/contract.json) -------------------------------
  await call("organizations.enabled_connections.get", () =>
    client.organizations.enabledConnections.get(organization.id, connection.id));
  await call("organizations.members.create", () =>
    client.organizations.members.create(organization.id, { members: [user.user_id] }));
  await call("organizations.member_roles.create", () =>
    client.organizations.members.roles.assign(organization.id, user.user_id, { roles: [role.id] }));

  // --- what adopt, backfill and reconcile call (management_client.py CALLS) ------------------
  await call("organizations.get_by_name", () => client.organizations.getByName(organization.name));
  await call("organizations.get", () => client.organizations.get(organization.id));
  const members = await call("organizations.members.list", () =>
    client.organizations.members.list(organization.id, { take: 100 }));
  await call("organizations.enabled_connections.list", () =>
    client.organizations.enabledConnections.list(organization.id));
  await call("connections.list", () => client.connections.list({ name: connection.name }));
  // The stack's role lookup (lookups.py, through the provider), not a command's call.
  await call("roles.list", () => client.roles.list({ name_filter: role.name }));
  await call("users.get", () => client.users.get(user.user_id));
  await call("users.update", () =>
    client.users.update(user.user_id, { app_metadata: { conformance: "pending" } }));
  await call("users.list_by_email", () =>
    client.users.listUsersByEmail({ email: user.email }));
  await call("users.organizations.list", () => client.users.organizations.list(user.user_id));
  const job = await call("jobs.users_exports.create", () =>
    client.jobs.usersExports.create({ format: "json", fields: [{ name: "user_id" }] }));
  await call("jobs.get", () => client.jobs.get(job.id));
  await call("clients.get", () => client.clients.get(app.client_id));
  await call("clients.rotate_secret", () => client.clients.rotateSecret(app.client_id));
  await call("client_grants.list", () => client.clientGrants.list({ client_id: app.client_id }));
  await call("actions.list", () => client.actions.list({ actionName: action.name }));
  await call("actions.get", () => client.actions.get(action.id));
  await call("actions.bindings.get", () => client.actions.triggers.bindings.list("post-login"));
  const domain = `conformance-${suffix}.example.com`;
  const discovery = await call("organizations.discovery_domains.create", () =>
    client.organizations.discoveryDomains.create(organization.id, { domain }));
  await call("organizations.discovery_domains.update", () =>
    client.organizations.discoveryDomains.update(organization.id, discovery.id, {
      status: "verified",
    }));
  await call("organizations.discovery_domains.get_by_name", () =>
    client.organizations.discoveryDomains.getByName(organization.id, domain));
  await call("organizations.members.delete", () =>
    client.organizations.members.delete(organization.id, { members: [user.user_id] }));

  // --- what Auth0 answers when it refuses ----------------------------------------------------
  await failing("organization-not-found", () => client.organizations.getByName(`none-${suffix}`));
  await failing("user-not-found", () => client.users.get(`auth0|none${suffix}`));
  await failing("client-not-found", () => client.clients.get(`none${suffix}`));
  await failing("action-not-found", () =>
    client.actions.get("00000000-0000-4000-8000-000000000000"));
  await failing("not-emulated", () => client.rules.list({}, { maxRetries: 0 }));

  // --- a connection's options, as Auth0's connection options scopes keep them ----------------
  // (AUTH0_LIMITED_CLIENT_*: an application granted read:connections and update:connections
  // without read:connections_options and update:connections_options)
  const limited = new ManagementClient({
    domain: process.env.AUTH0_DOMAIN,
    clientId: process.env.AUTH0_LIMITED_CLIENT_ID,
    clientSecret: process.env.AUTH0_LIMITED_CLIENT_SECRET,
  });
  options["admin-get"] = await client.connections.get(connection.id);
  options["limited-get"] = await limited.connections.get(connection.id);
  options["limited-list"] = (await limited.connections.list({ name: connection.name })).data;
  try {
    await limited.connections.update(connection.id, { options: { brute_force_protection: false } });
    options["limited-update-options"] = { statusCode: 200 };
  } catch (error) {
    options["limited-update-options"] = { statusCode: error.statusCode, body: error.body };
  }
  return members;
}

main().then(
  () => process.stdout.write(JSON.stringify({ calls, errors, options })),
  (error) => {
    process.stderr.write(`${error.stack}\n${JSON.stringify(error.body ?? null)}\n`);
    process.exit(1);
  },
);
