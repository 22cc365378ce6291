export * from './swf-terminator-props';
export * from './swf-terminator';
