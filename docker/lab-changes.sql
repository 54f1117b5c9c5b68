-- The seed lab's changes, its own rows (db_sql_operations.ipynb; the same as
-- scripts/demo.sh applies), to run
-- against the compose stack once it is up:
--   docker compose exec -T postgres psql -U postgres -d lab < docker/lab-changes.sql
INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(5, 'Glauber', 'Rocha', 'glauber.rocha@terraemtranse.movie'),
	(6, 'Hilton', 'Lacerda', 'hilton@tatuagem.movie'),
	(7, 'Fernando', 'Meireles', 'fernando.meireles@cidadededeus.movie');
UPDATE inventory.customers SET email = 'george@foobar.com' WHERE id = 2;
INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(8, 'Fernando', 'Meireles', 'meireles@cidadededeus.movie'),
	(9, 'Claudio', 'Assis', 'claudio.assis@amarelomanga.movie'),
	(10, 'Alguem', 'Ruim', 'alguem@algumfilme.movie');
UPDATE inventory.customers SET email = 'edward@walker.com' WHERE id = 3;
DELETE FROM inventory.customers WHERE id = 10;
