export * from './swf-terminator';
