CREATE TABLE embed.b (note text DEFAULT $$có dấu )"$$);
