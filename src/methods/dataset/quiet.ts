// LanceDB's native layer logs warnings (e.g. "No existing dataset ... it will be created") to
// stderr through env_logger, read once when the binding loads: keep it to errors unless the
// user asked for more. Imported before @lancedb/lancedb.
process.env['LANCEDB_LOG'] ??= 'error';
