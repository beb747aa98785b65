export const validatorPath: string
export function renderValidator (schema: object): string
