/** Prompts for the rare classes: a template with `{class}` and one negative prompt. */
import { UserError } from '../params/user_error.js';

export const DEFAULT_PROMPT_TEMPLATE = 'a photo of a {class}, high quality, detailed, realistic lighting';
export const DEFAULT_NEGATIVE_PROMPT =
  'blurry, low quality, low resolution, cartoon, drawing, text, watermark, deformed';

export function promptFor(template: string, className: string): string {
  if (!template.includes('{class}'))
    throw new UserError(`prompt template must contain {class}, got ${JSON.stringify(template)}`);
  return template.split('{class}').join(className);
}
