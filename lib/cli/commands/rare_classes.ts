import { defineCommand } from '../command.js';
import { RARE_CLASSES_SCHEMA, rareClasses } from '../../crops/rare_classes.js';
import { textTable } from '../../viz/table.js';

export const rareClassesCommand = defineCommand({
  name: 'rare-classes',
  summary: 'count crops per class in a subset and choose the K rarest classes (by train crops)',
  schema: RARE_CLASSES_SCHEMA,
  async run(p) {
    const { table, rare } = await rareClasses(p);
    console.log(textTable(table.map((r) => ({ ...r, rare: r.rare ? 'yes' : '' }))));
    console.log(`\nrare classes (k=${p.k}): ${rare.join(', ')}`);
  },
});
