# Generates a C++ source holding every migrations/NNNN_name.sql as a string, so the binary carries its schema.
# Inputs: MIGRATIONS_DIR, OUTPUT.
file(GLOB files "${MIGRATIONS_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(base ${f} NAME_WE)
  string(SUBSTRING ${base} 0 4 version)
  string(SUBSTRING ${base} 5 -1 name)
  math(EXPR version "${version}")
  file(READ ${f} sql)
  string(APPEND body "      {${version}, \"${name}\", R\"todo_sql(${sql})todo_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from migrations/*.sql by cmake/embed_migrations.cmake. Do not edit.\n"
  "#include \"todo/db/migrations.hpp\"\n\nnamespace todo::db {\n\n"
  "const std::vector<Migration>& embedded_migrations() {\n  static const std::vector<Migration> all = {\n"
  "${body}  };\n  return all;\n}\n\n}  // namespace todo::db\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
