-- AlterEnum
ALTER TYPE "PromiseStatus" ADD VALUE 'SUPERSEDED';
