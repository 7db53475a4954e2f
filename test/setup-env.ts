// The SDK warns once per process that Node 20 will lose support; CI runs Node 20, Lambda runs Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Every handler needs a signing policy; tests of the signing path itself run with the one that allows anything.
process.env.SIGNING_POLICY_FILE ??= 'examples/policies/allow-all.json';
// Metrics (CloudWatch EMF lines on stdout) are off in tests except where a test turns them on to read them.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
