-- Custom fields typed pesel, nip or regon (the check keeps its name)
ALTER TABLE crm.custom_field DROP CONSTRAINT custom_field_type_check,
    ADD CONSTRAINT custom_field_type_check CHECK (type IN ('number', 'text', 'pesel', 'nip', 'regon'));
COMMENT ON TABLE crm.custom_field IS
    'custom client fields: a field''s type (number, text, pesel, nip or regon) cannot change, only its name; deleting a field deletes its values';
COMMENT ON COLUMN crm.custom_field.type IS
    'number, text, pesel, nip or regon: number values go to crm.custom_value.number_value, the others to text_value (pesel, nip and regon checked by crm.pesel, crm.nip, crm.regon and kept as their digits); fixed once created';
COMMENT ON TABLE crm.custom_value IS
    'custom field values: number_value for number fields, text_value for text, pesel, nip and regon fields';
COMMENT ON COLUMN crm.custom_value.text_value IS
    'the value of a text field, or of a pesel, nip or regon field as its digits (checked and made canonical on write); null for a number field';
COMMENT ON COLUMN crm.client_custom_value.type IS 'the field''s type: number, text, pesel, nip or regon';
COMMENT ON COLUMN crm.client_custom_value.text_value IS
    'the value of a text, pesel, nip or regon field; null for a number field';
