/**
 * The operator's confirmation before anything acts (terminate, cancel, restore): above a threshold the
 * domain's name is typed, below it y/N with no as the default; without a terminal it refuses unless --yes.
 */
import { confirm, isCancel, text } from '@clack/prompts';
import type { Context } from './context';

/** Asks the operator; true to go on. Refuses without a terminal unless --yes. */
export async function confirmed(
  ctx: Context,
  question: string,
  domain: string,
  toAct: number,
  options: { readonly yes: boolean; readonly confirmThreshold: number },
): Promise<boolean> {
  const { ui } = ctx;
  if (options.yes) return true;
  if (!ui.interactive) {
    ui.err('Not confirmed: no terminal to ask on. Add --yes to act without a question (scripts).');
    return false;
  }
  if (toAct > options.confirmThreshold) {
    const answer = await text({
      message: `${question} Type the domain name to confirm:`,
      output: ui.promptOutput,
    });
    if (isCancel(answer) || answer.trim() !== domain) {
      ui.err(ui.c.yellow(`Not confirmed (the answer was not "${domain}"); nothing sent.`));
      return false;
    }
    return true;
  }
  const answer = await confirm({ message: question, initialValue: false, output: ui.promptOutput });
  if (isCancel(answer) || !answer) {
    ui.err('Not confirmed; nothing sent.');
    return false;
  }
  return true;
}
