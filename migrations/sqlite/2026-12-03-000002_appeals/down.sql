DROP INDEX appeals_assessment;
DROP TABLE appeals;
