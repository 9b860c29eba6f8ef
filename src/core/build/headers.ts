// Which headers are custom programs: the ones that define custom_prog(), the function the landing program calls.
// Decided in one place for the whole project (src/shared/customProgramScope.ts).
export { isCustomProgramSource } from '../../shared/customProgramScope';
