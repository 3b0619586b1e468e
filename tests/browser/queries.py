"""The Dagster GraphQL queries the browser test's stack helper asks (`dev_stack.DevStack`)."""

LOCATIONS = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name
  loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
RUNS = """{ runsOrError(limit: 100) { ... on Runs { results { runId jobName status
  tags { key value } } } } }"""
PARTITIONS = """query($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) {
  ... on AssetNode { partitionKeys } } }"""
CHECKS = """query($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) {
  ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks { name } } } } } }"""
EXECUTIONS = """query($path: [String!]!, $check: String!) {
  assetCheckExecutions(assetKey: {path: $path}, checkName: $check, limit: 50) {
    runId status partition evaluation { success metadataEntries { label
      ... on JsonMetadataEntry { jsonString } ... on TextMetadataEntry { text } } } } }"""
LATEST = """query($path: [String!]!, $partition: String!) {
  assetNodeOrError(assetKey: {path: $path}) { ... on AssetNode {
    assetMaterializations(partitions: [$partition], limit: 1) { runId
    metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }"""
