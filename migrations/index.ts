import { Migration20261126055604 } from './Migration20261126055604';
import { Migration20261126171821 } from './Migration20261126171821';
import { Migration20261126212737 } from './Migration20261126212737';

/** Every migration, oldest first. `npm run migration:create` writes a new file; add its class here. */
export const migrationsList = [
  { name: 'Migration20261126055604', class: Migration20261126055604 },
  { name: 'Migration20261126171821', class: Migration20261126171821 },
  { name: 'Migration20261126212737', class: Migration20261126212737 },
];
