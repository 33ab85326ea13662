// Imported first by every command: the AWS SDK warns on each client that its
// releases after January 2027 need Node 22. Lambda runs Node 24; on a Node 20
// laptop the warning only buries the command's output. This is the SDK's own switch.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
