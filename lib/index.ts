export * from './swf-terminator-props';
export * from './swf-terminator';
export * from './policy-options';
export * from './termination-policy';
export * from './alarms';
export * from './dashboard';
