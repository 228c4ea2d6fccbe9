export const slugify = (text: string): string => text.toLowerCase().split(' ').join('-')
