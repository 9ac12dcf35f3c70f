// Writes schema/schema.graphql from the code (npm run schema); a test fails when they differ.
import { writeFile } from 'node:fs/promises';
import { printedSchema } from '../src/schema/index.ts';

await writeFile(new URL('../schema/schema.graphql', import.meta.url), printedSchema());
