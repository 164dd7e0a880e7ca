// Baseline: the support article's post-login Action, as published (see docs/benchmarks.md).
// Kept only so the benchmark can measure what this project replaces. Not deployed.
exports.onExecutePostLogin = async (event, api) => {
  const ManagementClient = require("auth0").ManagementClient;

  const client = new ManagementClient({
    domain: event.secrets.TENANT_DOMAIN,
    clientId: event.secrets.CLIENT_ID,
    clientSecret: event.secrets.CLIENT_SECRET,
  });

  try {
    const connectionId = event.connection.id;
    const organizationId = event.secrets.ORGANIZATION_ID;
    await client.organizations.enabledConnections.get(organizationId, connectionId);
    await client.organizations.members.create(organizationId, {
      members: [event.user.user_id]
    });
    console.log("user added to org");
  } catch (error) {
    console.log("user not added to org: ", error.message);
  }
};
