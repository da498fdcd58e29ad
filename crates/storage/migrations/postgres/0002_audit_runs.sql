-- An audit entry may cover a run of records created together (one batch of an import, in one
-- place): entity_id is the run's first id, last_entity_id its last; NULL for one entity.
ALTER TABLE audit ADD COLUMN last_entity_id BIGINT;
