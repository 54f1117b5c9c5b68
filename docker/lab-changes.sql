-- The seed lab's changes (the same as scripts/demo.sh applies), to run
-- against the compose stack once it is up:
--   docker compose exec -T postgres psql -U postgres -d lab < docker/lab-changes.sql
INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(5, 'Ana', 'Souza', 'ana.souza@example.com'),
	(6, 'Bruno', 'Lima', 'bruno.lima@example.com'),
	(7, 'Carla', 'Mendes', 'carla.mendes@example.com');
UPDATE inventory.customers SET email = 'george@foobar.com' WHERE id = 2;
INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(8, 'Daniel', 'Rocha', 'daniel.rocha@example.com'),
	(9, 'Elisa', 'Costa', 'elisa.costa@example.com'),
	(10, 'Fabio', 'Alves', 'fabio.alves@example.com');
UPDATE inventory.customers SET email = 'edward@walker.com' WHERE id = 3;
DELETE FROM inventory.customers WHERE id = 10;
