export const documentPath: string
export const clientTypesPath: string
export function renderClientTypes (documentText: string): Promise<string>
