-- The check 疑似重复登记的人员 looks for persons of the same name and birth date with another ID
-- number: an index on all three answers it from the index alone, where the index on the name
-- read every namesake's row from the table (a county's common names have hundreds each). It
-- starts with the name, so it serves every lookup by name too, and replaces that index. Never
-- edit a migration that has run; add a new one.
CREATE INDEX persons_name_birth ON persons(name, birth_date, id_number);
DROP INDEX persons_name;
