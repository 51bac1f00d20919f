--------------------------------------------------------------------------
-- Import (WB-2) of an xlsx workbook: its first sheet, or a sheet named by
-- the caller, becomes the rows of an import batch's staging table, as a
-- CSV file loaded with \copy does (88_import.sql); crm.import_preview()
-- and crm.import_apply() then work on it unchanged
-- (doc/working-with-the-base.md, "An xlsx workbook").
--
-- The reader is C (src/xlsximport.c, src/core/xlsxread.c): libzip and
-- libxml2's streaming reader, with limits that stop zip bombs and huge
-- sheets.  Both functions run with the caller's rights, like the rest of
-- the import: the batch, its staging table and its rows are the caller's.
--------------------------------------------------------------------------

CREATE FUNCTION crm.xlsx_sheets(workbook bytea)
    RETURNS TABLE (sheet_no integer, name text, state text, part text)
    AS 'MODULE_PATHNAME', 'xlsx_sheets' LANGUAGE C STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.xlsx_sheets(bytea) IS
    'the sheets of an xlsx workbook in the order of their tabs: number, name, state (visible, hidden, veryHidden) and the part of the zip that holds it';

CREATE FUNCTION crm.import_xlsx(workbook bytea, sheet text DEFAULT NULL, file_name text DEFAULT NULL,
                                staging text DEFAULT 'crm_import')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'import_xlsx' LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.import_xlsx(bytea, text, text, text) IS
    'begins an import from a sheet of an xlsx workbook (NULL: the first visible one): its first row with a value names the columns (crm.import_begin()), the rows after it fill the staging table pg_temp.<staging>; returns the batch''s number for crm.import_preview() and crm.import_apply()';
