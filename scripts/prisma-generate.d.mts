/** Whether the generated Prisma client was made from prisma/schema.prisma as it is. */
export function prismaClientIsCurrent(): { current: boolean; hash: string };
/** Runs `prisma generate` when the schema changed (or always, with force); true when it ran. */
export function generatePrismaClient(options?: { force?: boolean }): boolean;
